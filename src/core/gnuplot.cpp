#include "core/gnuplot.h"

#include <unistd.h>

#include <cstdio>
#include <stdexcept>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace sigprop {

std::string gnuplot_datablock(const std::string& name, const std::string& rows) {
  return "$" + name + " << EOD\n" + rows + "EOD\n";
}

std::string series_style(size_t i) {
  static const char* colours[] = {"#1F77B4", "#D62728", "#2CA02C", "#9467BD", "#FF7F0E", "#000000",
                                  "#8C564B", "#E377C2", "#17BECF", "#7F7F7F", "#BCBD22", "#393B79"};
  constexpr size_t n = sizeof colours / sizeof *colours;
  return fmt::format("lc rgb '{}' dt {}", colours[i % n], 1 + (i / n) % 4);
}

std::string gnuplot_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || c == '^' || c == '{' || c == '}' || c == '@' || c == '&' || c == '~')
      out += std::string("\\") + c;
    else if (c == '\'')
      out += "''";
    else
      out += c;
  }
  return out;
}

std::string series_marker(size_t i) {
  static const int types[] = {7, 5, 9, 11, 13, 6, 4, 8, 10, 12, 1, 2};  // filled, then open
  return fmt::format("pt {} ps 0.8", types[i % (sizeof types / sizeof *types)]);
}

void render_plot(const std::string& script, const std::string& base, int width_px,
                 int height_px) {
  const std::string pid = std::to_string(::getpid());
  struct Target {
    std::string ext, terminal;
  };
  const Target targets[] = {
      {"png", fmt::format("pngcairo size {},{} font 'Sans,11'", width_px, height_px)},
      {"svg", fmt::format("svg size {},{} dynamic font 'Sans,11'", width_px, height_px)},
  };
  for (const auto& t : targets) {
    const std::string final_path = base + "." + t.ext, tmp = final_path + ".tmp." + pid;
    const std::string log = tmp + ".log";
    FILE* pipe = ::popen(("gnuplot 2>'" + log + "'").c_str(), "w");
    if (!pipe) throw std::runtime_error("cannot start gnuplot (install gnuplot-nox)");
    const std::string full =
        fmt::format("set encoding utf8\nset terminal {}\nset output '{}'\n{}\nunset output\n",
                    t.terminal, tmp, script);
    std::fwrite(full.data(), 1, full.size(), pipe);
    const int rc = ::pclose(pipe);
    std::string messages;
    try {
      messages = read_file(log);
    } catch (const DataError&) {
    }
    std::remove(log.c_str());
    if (rc != 0) {
      std::remove(tmp.c_str());
      if (messages.find("not found") != std::string::npos)
        throw std::runtime_error("gnuplot is not installed: sudo apt-get install gnuplot-nox");
      throw std::runtime_error("gnuplot failed writing " + final_path + ":\n" + messages);
    }
    if (std::rename(tmp.c_str(), final_path.c_str()) != 0)
      throw std::runtime_error("cannot write " + final_path);
  }
}

}  // namespace sigprop
