//! wsh: the command line, the interpreter, images and containers.

pub mod base_image;
pub mod build;
pub mod container;
pub mod image;
pub mod image_cmds;
pub mod import;
pub mod interp;
pub mod mount;
pub mod repl;
pub mod sh_runner;
pub mod store;
