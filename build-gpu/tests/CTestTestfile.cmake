# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build-gpu/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
include("/work/main/build-gpu/tests/sigprop_tests[1]_include.cmake")
add_test(python "/work/main/.venv/bin/python" "-m" "pytest" "-q" "-p" "no:cacheprovider" "/work/main/tests/python")
set_tests_properties(python PROPERTIES  ENVIRONMENT "PYTHONPATH=/work/main/build-gpu/python;SIGPROP_CLI=/work/main/build-gpu/sigprop;SIGPROP_DATA_DIR=/work/main/build-gpu/data" TIMEOUT "900" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;20;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(kill_loop "/work/main/.venv/bin/python" "/work/main/scripts/kill_loop.py" "--sigprop" "/work/main/build-gpu/sigprop" "--kills" "4" "--targets" "train,sweep,repro" "--out" "/work/main/build-gpu/kill-loop")
set_tests_properties(kill_loop PROPERTIES  ENVIRONMENT "SIGPROP_DATA_DIR=/work/main/build-gpu/data" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;30;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(slurm_sweep "/work/main/.venv/bin/python" "/work/main/tests/slurm/slurm_sweep.py" "--sigprop" "/work/main/build-gpu/sigprop" "--out" "/work/main/build-gpu/slurm-sweep")
set_tests_properties(slurm_sweep PROPERTIES  ENVIRONMENT "SIGPROP_DATA_DIR=/work/main/build-gpu/data" RUN_SERIAL "TRUE" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;38;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(torch_range "/work/main/.venv/bin/python" "/work/main/tests/packaging/torch_range.py" "--source" "/work/main" "--python-dir" "/work/main/build-gpu/python" "--cmake" "/usr/bin/cmake")
set_tests_properties(torch_range PROPERTIES  TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;45;add_test;/work/main/tests/CMakeLists.txt;0;")
