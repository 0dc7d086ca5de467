"""The reference runner for tests/foreign_programs.rs: runs a wasm32-wasip1 command
under wasmtime (the wasmtime-py package, installed by the test) as the wasmtime CLI
would with `--dir HOST::GUEST`, stdio inherited, and exits with the program's status.

usage: wasmtime_run.py WASMTIME_PY_DIR MODULE HOST_DIR GUEST_DIR ARGV0 [ARGS...]
"""
import sys

sys.path.insert(0, sys.argv[1])
from wasmtime import Config, Engine, ExitTrap, Linker, Module, Store, WasiConfig  # noqa: E402

module_path, host_dir, guest_dir = sys.argv[2:5]
engine = Engine(Config())
linker = Linker(engine)
linker.define_wasi()
module = Module.from_file(engine, module_path)
wasi = WasiConfig()
wasi.argv = sys.argv[5:]
wasi.inherit_stdin()
wasi.inherit_stdout()
wasi.inherit_stderr()
wasi.preopen_dir(host_dir, guest_dir)
store = Store(engine)
store.set_wasi(wasi)
instance = linker.instantiate(store, module)
try:
    instance.exports(store)["_start"](store)
except ExitTrap as e:
    sys.stdout.flush()
    sys.exit(e.code)
