# Thin wrappers. Every target works on a fresh machine: it makes .venv/ first if needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.edgecpm-installed

.PHONY: setup demo test test-fast kernels kernels-aarch64 kernels-sanitize android android-test tiny-model tiny-ternary quality bench-peers clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: setup kernels
	$(VENV)/bin/edgecpm demo

test: setup kernels kernels-aarch64
	$(PY) -m pytest -q

test-fast: setup kernels
	$(PY) -m pytest -q -m "not slow"

# The C++ ExecuTorch kernels for this machine, against the executorch wheel in .venv.
ET_HOST = $(shell $(PY) -c "import executorch; print(executorch.__path__[0])")
kernels: setup
	cmake -S runtime_kernels -B build/kernels/host -DEXECUTORCH_ROOT=$(ET_HOST) > /dev/null
	cmake --build build/kernels/host -j2

# The same for aarch64 (Jetson): cross-compiled against the aarch64 executorch wheel, which pip
# fetches once. Needs g++-aarch64-linux-gnu; qemu-aarch64 runs the results (see .ci/run).
ET_AARCH64 := build/executorch-aarch64
ET_VERSION = $(shell $(PY) -c "import importlib.metadata as m; print(m.version('executorch'))")
$(ET_AARCH64)/.extracted: $(STAMP)
	rm -rf $(ET_AARCH64) build/wheels/executorch-*aarch64*.whl
	$(PY) -m pip download -q executorch==$(ET_VERSION) --platform manylinux_2_28_aarch64 \
		--python-version 3.11 --only-binary=:all: --no-deps -d build/wheels
	$(PY) -m zipfile -e build/wheels/executorch-$(ET_VERSION)-*aarch64.whl $(ET_AARCH64)
	touch $@

kernels-aarch64: $(ET_AARCH64)/.extracted
	cmake -S runtime_kernels -B build/kernels/aarch64 -DEXECUTORCH_ROOT=$(abspath $(ET_AARCH64))/executorch \
		-DCMAKE_TOOLCHAIN_FILE=$(abspath runtime_kernels/cmake/aarch64-linux-gnu.cmake) > /dev/null
	cmake --build build/kernels/aarch64 -j2

# The Android demo app as a signed debug APK, android_demo/build/edgecpm-demo.apk, and its static
# checks (android_demo/README.md). Needs Debian's Android build tools and a JDK (see .ci/run); the
# two pinned bullseye packages (android.jar, dx) are fetched into build/android/ once.
android: kernels-aarch64
	android_demo/build.sh

# The app's JUnit tests and the end-to-end test of that APK on a fake adb device (qemu); the
# host kernels export the test's tiny bundle.
android-test: setup kernels android
	$(PY) -m pytest -q tests/android

# The kernels and the runner built with AddressSanitizer + UBSan, run over the kernel self-check
# and the runner fuzz test (tests/fuzz/test_runner_fuzz.py); any report fails the target (ASan
# halts on the first error, UBSan does not recover, both exit 86). The executorch wheel's prebuilt
# libraries are not instrumented: a bad access inside them is seen only where it touches memory
# that our code allocated. allocator_may_return_null: a damaged program may ask for terabytes,
# which the runner must refuse with its error line, as it does without ASan.
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SANITIZE_ENV := ASAN_OPTIONS=halt_on_error=1:exitcode=86:allocator_may_return_null=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86
SANITIZE_DIR := build/kernels/sanitize
kernels-sanitize: kernels
	cmake -S runtime_kernels -B $(SANITIZE_DIR) -DEXECUTORCH_ROOT=$(ET_HOST) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_CXX_FLAGS="$(SANITIZE_FLAGS)" > /dev/null
	cmake --build $(SANITIZE_DIR) -j2 --target edgecpm_kernel_check edgecpm-runner
	$(SANITIZE_ENV) $(SANITIZE_DIR)/edgecpm_kernel_check
	$(SANITIZE_ENV) EDGECPM_RUNNER=$(abspath $(SANITIZE_DIR))/edgecpm-runner $(PY) -m pytest -q -p no:cacheprovider \
		tests/fuzz/test_runner_fuzz.py tests/fuzz/test_serve_fuzz.py tests/runner/test_runner_tokenizer.py

# Retrain the embedded default model (about 35 minutes on 2 cores; the result is committed).
tiny-model: setup
	$(PY) -m edgecpm.tiny.train -o toolchain/edgecpm/assets/tiny --steps 800 --eval-every 200 --force

# Retrain its BitCPM-style ternary twin by QAT from the fp model (about 20 minutes).
tiny-ternary: setup
	$(PY) -m edgecpm.tiny.train_qat -o toolchain/edgecpm/assets/tiny-ternary --steps 400 --force

# The README's quality table (fp, int4 RTN/GPTQ, ternary PTQ/QAT), about 5 minutes.
quality: setup
	$(PY) -m benchmarks.quality

# Ours beside llama.cpp and ExecuTorch's 8da4w at MiniCPM4-0.5B shapes (benchmarks/README.md).
# llama-cpp-python goes into its own plain venv: it compiles llama.cpp from source (~10-30 minutes
# on 2 shared cores), which the project's .venv should not carry. The first run also exports the
# 8da4w program (15-20 minutes, cached under build/peers/). PEERS_ARGS="--shape tiny" for a quick run.
PEERS_VENV := build/peers-venv
LLAMA_CPP_PYTHON := 0.3.36
PEERS_ARGS ?= --shape minicpm4-0.5b
$(PEERS_VENV)/.installed:
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install -q --upgrade pip
	CMAKE_ARGS="-DGGML_NATIVE=ON" $(PEERS_VENV)/bin/pip install llama-cpp-python==$(LLAMA_CPP_PYTHON) numpy
	touch $@

bench-peers: setup kernels $(PEERS_VENV)/.installed
	$(PY) -m benchmarks.peers $(PEERS_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info toolchain/*.egg-info .pytest_cache
