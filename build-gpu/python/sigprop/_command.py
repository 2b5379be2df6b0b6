"""The `sigprop` console command of a pip install: runs the C++ command installed beside the
package (sigprop/bin/sigprop) with the same arguments, environment and exit code."""
import os
import sys


def main():
    exe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "sigprop")
    if not os.access(exe, os.X_OK):
        sys.exit(f"sigprop: the command {exe} is missing from this install; reinstall sigprop "
                 f"(pip install --no-build-isolation --force-reinstall <sigprop>)")
    os.execv(exe, [exe, *sys.argv[1:]])
