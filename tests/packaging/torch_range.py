"""A torch outside sigprop's supported range is refused by name, at build and at import.

Build: CMake is configured against an interpreter that sees a stand-in `torch` package reporting
version 2.3.1 (below the minimum): configuration must stop, naming that version and the range.
Import: the built package is imported with torch.__version__ set to 3.1.0 and then to a release
other than the one it was built against: both raise ImportError naming both versions.

    torch_range.py --source CHECKOUT --python-dir BUILD/python --cmake CMAKE"""
import argparse
import os
import subprocess
import sys
import tempfile

FAKE_TORCH = '''
__version__ = "2.3.1"
class version:
    cuda = None
class _C:
    _GLIBCXX_USE_CXX11_ABI = True
'''


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what.splitlines()[0][:120])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--python-dir", required=True)
    ap.add_argument("--cmake", default="cmake")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "fake", "torch"))
        with open(os.path.join(tmp, "fake", "torch", "__init__.py"), "w") as f:
            f.write(FAKE_TORCH)
        env = dict(os.environ, PYTHONPATH=os.path.join(tmp, "fake"))
        r = subprocess.run([args.cmake, "-S", args.source, "-B", os.path.join(tmp, "build"),
                            f"-DPython3_EXECUTABLE={sys.executable}"],
                           env=env, capture_output=True, text=True)
        out = r.stdout + r.stderr
        check(r.returncode != 0, "configuring against torch 2.3.1 fails\n" + out)
        flat = " ".join(out.split())
        check("torch 2.3.1" in flat and ">= 2.4, < 3.0" in flat,
              "the build error names torch 2.3.1 and the range >= 2.4, < 3.0\n" + out)

    def import_with(version):
        code = ("import torch; torch.__version__ = %r\n"
                "try:\n import sigprop\nexcept ImportError as e:\n print('IMPORTERROR', e)\n"
                "else:\n print('IMPORTED')" % version)
        env = dict(os.environ, PYTHONPATH=args.python_dir)
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout

    import torch
    built = torch.__version__
    major, minor = (int(x) for x in built.split(".")[:2])
    out = import_with("3.1.0")
    check("IMPORTERROR" in out and "torch 3.1.0" in out and ">= 2.4, < 3.0" in out,
          "importing under torch 3.1.0 raises ImportError naming it and the range\n" + out)
    other = f"{major}.{minor + 1}.0"
    out = import_with(other)
    check("IMPORTERROR" in out and other in out and built in out,
          f"importing under torch {other} (built against {built}) raises ImportError naming both\n" + out)
    check("IMPORTED" in import_with(built), f"importing under the torch it was built against ({built}) works")


if __name__ == "__main__":
    main()
