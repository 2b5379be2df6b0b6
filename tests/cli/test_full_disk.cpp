// A full disk while writing a checkpoint, a run folder or a report: a clear error naming the
// file and the reason, exit 3 (data), the previous checkpoint intact and loadable, no temporary
// or half-written file left, and the run resumable once there is room. The disk is a small
// tmpfs mounted by the test (it needs the right to mount, which CI's machine has); where that is
// refused the test fails with mount's own message rather than pass without testing.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cli_run.h"

using namespace sigprop::test;

namespace {

// A tmpfs of `bytes` at `dir`, unmounted when the object goes.
struct SmallDisk {
  fs::path dir;
  std::string error;
  SmallDisk(const fs::path& d, size_t bytes) : dir(d) {
    fs::create_directories(dir);
    const std::string opts = "size=" + std::to_string(bytes);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) != 0)
      error = std::string("mount -t tmpfs -o ") + opts + " " + dir.string() + ": " + std::strerror(errno);
  }
  ~SmallDisk() {
    if (error.empty()) ::umount2(dir.c_str(), MNT_DETACH);
  }
  void grow(size_t bytes) const {
    const std::string opts = "size=" + std::to_string(bytes);
    ASSERT_EQ(::mount("tmpfs", dir.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()), 0) << std::strerror(errno);
  }
};

const char* kTrain =
    "train --preset pre-ln --depth 2 --width 64 --heads 2 --data synthetic --batch 4 --seq 16 "
    "--eval-every 0 --eval-batches 2 --log-every 5 --checkpoint-every 5 ";

std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path().string());
  return out;
}

}  // namespace

TEST(FullDisk, CheckpointWriteFailsCleanlyAndTheLastOneSurvives) {
  const fs::path root = temp_dir("full_disk");
  // How big a checkpoint of this run is, measured on a disk with room.
  auto sized = run_cli(std::string(kTrain) + "--steps 5 --out " + (root / "sized").string());
  ASSERT_EQ(sized.code, 0) << sized.output;
  const size_t checkpoint = fs::file_size(root / "sized" / "checkpoint.pt");
  // Room for the run's small files and one checkpoint, not for the temporary of the second.
  SmallDisk disk(root / "disk", checkpoint + checkpoint / 2 + 64 * 1024);
  ASSERT_TRUE(disk.error.empty()) << disk.error;
  const fs::path run = disk.dir / "run";
  const auto r = run_cli(std::string(kTrain) + "--steps 20 --out " + run.string());
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("checkpoint"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
  EXPECT_TRUE(temporaries(disk.dir).empty()) << temporaries(disk.dir).front();
  // The step-5 checkpoint is whole: it loads.
  const auto exported = run_cli("export " + run.string() + " --out " + (root / "export").string());
  EXPECT_EQ(exported.code, 0) << exported.output;
  // With room again, the same command brings the run to its end.
  disk.grow(16 * checkpoint + 1024 * 1024);
  const auto again = run_cli(std::string(kTrain) + "--steps 20 --out " + run.string());
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("steps: 20"), std::string::npos) << again.output;
}

TEST(FullDisk, RunFolderAndReportOnAFullDiskLeaveNothingHalfWritten) {
  const fs::path root = temp_dir("full_disk_probe");
  SmallDisk disk(root / "disk", 1024 * 1024);
  ASSERT_TRUE(disk.error.empty()) << disk.error;
  const auto fill = [&](size_t leave) {  // fills the disk to within `leave` bytes
    std::ofstream f(disk.dir / "filler", std::ios::binary | std::ios::app);
    const std::string page(4096, 'x');
    while (fs::space(disk.dir).available > leave && f.write(page.data(), page.size())) f.flush();
  };
  fill(4096);
  // A probe's folder is staged and published whole: on a full disk nothing of it remains.
  const fs::path out = disk.dir / "probe";
  const auto r = run_cli("probe --preset post-ln,pre-ln --depth 8 --width 32 --seq 16 --batch 2 "
                         "--seeds 1 --input gaussian --out " + out.string());
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& e : fs::directory_iterator(disk.dir))
    if (e.path().filename() != "filler") ADD_FAILURE() << "left behind: " << e.path();
  // A report into a full folder: refused with the reason, no half-written report.html.
  const fs::path src = root / "probe";
  ASSERT_EQ(run_cli("probe --preset post-ln --depth 4 --width 32 --seq 16 --batch 2 --seeds 1 "
                    "--input gaussian --out " + src.string()).code, 0);
  fs::remove(disk.dir / "filler");
  fs::copy(src, disk.dir / "p", fs::copy_options::recursive);
  fill(0);
  const auto rep = run_cli("report " + (disk.dir / "p").string());
  EXPECT_EQ(rep.code, 3) << rep.output;
  EXPECT_NE(rep.output.find("No space left on device"), std::string::npos) << rep.output;
  EXPECT_FALSE(fs::exists(disk.dir / "p" / "report.html"));
  EXPECT_TRUE(temporaries(disk.dir).empty());
}
