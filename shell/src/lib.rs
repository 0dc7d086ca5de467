//! wsh: the command line, the interpreter, the REPL and the Balenafile builder. Images,
//! layers and containers are the `images` crate's.

pub mod build;
pub mod cli;
pub mod interp;
pub mod repl;
pub mod sh_runner;
