// Exit codes of the sigprop command, documented in the README. In the library because drivers
// that run child processes (sweeps, reproductions) read their children's codes.
#pragma once

namespace sigprop {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;        // an unexpected error
constexpr int kExitConfig = 2;         // bad config, preset, key or command-line value
constexpr int kExitData = 3;           // missing or corrupt data file, or one that cannot be written
constexpr int kExitDiverged = 4;       // training stopped on a non-finite loss or gradient
constexpr int kExitInterrupted = 130;  // Ctrl-C: checkpoint saved, resumable

}  // namespace sigprop
