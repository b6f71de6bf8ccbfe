"""The edgecpm C++ kernel library in the ExecuTorch Python runtime: find it, load it, check programs.

ExecuTorch's own failure for an unregistered operator is "Missing operator: edgecpm::x.out" at
method-load time, with no hint of which library would provide it. Here a program's operator list
(from its manifest) is compared with the registered kernels *before* loading, and what is missing
is named together with the library file and the command that builds it.

Which library: loading one runs its code (its static initialisers), so it must come from this
installation (``make kernels``) or from a path the user names (EDGECPM_KERNELS_LIB). The copy
inside a bundle is for devices (the C++ runner, Android); its checksum in the manifest beside it
proves the bundle is intact, not where the library came from. It is loaded only when its bytes
equal a build of this installation, or when the user asks for it (EDGECPM_TRUST_BUNDLED_KERNELS=1).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from edgecpm.checksum import file_sha256
from edgecpm.errors import KernelLibraryError
from edgecpm.export.pte_manifest import LIBRARY_NAME

TRUST_BUNDLED_ENV = "EDGECPM_TRUST_BUNDLED_KERNELS"
_loaded: dict[str, ctypes.CDLL] = {}  # resolved path -> handle (a library is registered once)


def registered_operators() -> set[str]:
    from executorch.extension.pybindings import portable_lib

    return set(portable_lib._get_operator_names())


def missing_operators(program_ops: list[str]) -> list[str]:
    have = registered_operators()
    return sorted(op for op in program_ops if op not in have)


def host_library() -> Path:
    """Where ``make kernels`` puts the library, unless EDGECPM_KERNELS_LIB names another."""
    from edgecpm.export.targets import load_target

    return load_target("host").kernel_library


def load_library(path: Path | None = None) -> ctypes.CDLL:
    """dlopen the kernels (their static initialisers register the ops with the runtime)."""
    import executorch.extension.pybindings.portable_lib  # noqa: F401  the runtime the ops register into

    if path is None and _loaded:
        return next(iter(_loaded.values()))
    path = Path(path or host_library()).resolve()
    if str(path) in _loaded:
        return _loaded[str(path)]
    if _loaded or any(op.startswith("edgecpm::") for op in registered_operators()):
        # A second copy would register the same ops again, which aborts the process.
        raise KernelLibraryError(f"cannot load {path}: edgecpm kernels are already registered in this "
                                 f"process (from {', '.join(_loaded) or 'another library'}); use one copy")
    if not path.is_file():
        raise KernelLibraryError(f"edgecpm kernel library {path} not found: build it with `make kernels` "
                                 "(or point EDGECPM_KERNELS_LIB at a built libedgecpm_kernels.so)")
    try:
        lib = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
    except OSError as e:
        raise KernelLibraryError(f"{path}: cannot be loaded ({e}); it may be built for another CPU or "
                                 "another executorch version: rebuild with `make kernels`") from None
    try:
        lib.edgecpm_kernels_isa.restype = ctypes.c_char_p
        lib.edgecpm_kernels_available.restype = ctypes.c_char_p
    except AttributeError:
        raise KernelLibraryError(f"{path}: not an edgecpm kernel library (it has no edgecpm_kernels_isa); "
                                 "build libedgecpm_kernels.so with `make kernels`") from None
    _loaded[str(path)] = lib
    return lib


def kernel_isa(lib: ctypes.CDLL | None = None) -> str:
    """The instruction set the kernels run with here (avx2, neon-dotprod, neon, scalar)."""
    return (lib or load_library()).edgecpm_kernels_isa().decode()


def set_kernel_isa(name: str, lib: ctypes.CDLL | None = None) -> None:
    lib = lib or load_library()
    if lib.edgecpm_kernels_set_isa(name.encode()) != 0:
        raise KernelLibraryError(f"kernel ISA {name!r} is not available here "
                                 f"(available: {lib.edgecpm_kernels_available().decode()})")


def known_libraries() -> list[Path]:
    """The kernel libraries this installation built or the user named, that exist: the only
    files whose bytes make a bundled copy trusted."""
    from edgecpm.export.targets import load_target, target_names

    paths = [host_library()] + [load_target(name).kernel_dir / LIBRARY_NAME for name in target_names()]
    return [p for p in dict.fromkeys(paths) if p.is_file()]


def trust_bundled_from_env() -> bool:
    return os.environ.get(TRUST_BUNDLED_ENV, "").strip().lower() in ("1", "true", "yes")


def choose_library(bundled: Path | None, trust_bundled: bool | None = None) -> Path:
    """The library to load for a program whose bundle ships ``bundled`` (None: it ships none).

    The host library (``make kernels`` or EDGECPM_KERNELS_LIB) when it exists; else a known build
    with the same bytes as the bundled copy; the bundled copy itself only when trusted explicitly
    (``trust_bundled``, default: EDGECPM_TRUST_BUNDLED_KERNELS)."""
    trust_bundled = trust_bundled_from_env() if trust_bundled is None else trust_bundled
    has_bundled = bundled is not None and bundled.is_file()
    if has_bundled and trust_bundled:
        return bundled
    host = host_library()
    if host.is_file() or not has_bundled:
        return host  # load_library names it and how to build it when it is missing
    digest = file_sha256(bundled)
    for known in known_libraries():
        if file_sha256(known) == digest:
            return known
    raise KernelLibraryError(
        f"{host} is not built, and {bundled} is not a build of this installation, so it is not loaded "
        "(loading a library runs its code): build the kernels with `make kernels`, point "
        f"EDGECPM_KERNELS_LIB at a library you trust, or set {TRUST_BUNDLED_ENV}=1 to use the bundle's copy")


def ensure_operators(program_ops: list[str], program: Path, bundled: Path | None = None,
                     trust_bundled: bool | None = None) -> None:
    """Make every operator of a program available, loading our library if it provides them, or fail
    naming what is missing and how to get it. ``bundled``: the library shipped beside the program,
    used only as ``choose_library`` allows."""
    missing = missing_operators(program_ops)
    if not missing:
        return
    ours = [op for op in missing if op.startswith("edgecpm::")]
    if ours:
        load_library(choose_library(bundled, trust_bundled))
        missing = missing_operators(program_ops)
    if missing:
        raise KernelLibraryError(
            f"{program} needs operators no loaded library provides: {', '.join(missing)}. "
            + ("edgecpm:: ops come from libedgecpm_kernels.so: build it with `make kernels` or set "
               "EDGECPM_KERNELS_LIB. " if any(op.startswith("edgecpm::") for op in missing) else "")
            + "Other ops come with the executorch package: check `edgecpm doctor` for the version.")


def install_abort_handler(program: Path) -> None:
    """Turn ExecuTorch's failed checks on a damaged ``program`` (SIGABRT in this process) into one
    ``error:`` line and exit status 2 (src/host_abort.cpp). Needs our library loaded; a program that
    needed none keeps ExecuTorch's own abort."""
    from edgecpm.quiet import is_verbose, native_stderr_filtered

    if not _loaded:
        return
    lib = next(iter(_loaded.values()))
    install = getattr(lib, "edgecpm_install_host_abort", None)
    if install is None:
        raise KernelLibraryError(f"{next(iter(_loaded))} is an older build of the edgecpm kernels: "
                                 "rebuild it with `make kernels`")
    install.argtypes = [ctypes.c_char_p, ctypes.c_int]
    with native_stderr_filtered():  # ExecuTorch notes that it replaces the bindings' handler
        install(str(program).encode(), int(is_verbose()))
