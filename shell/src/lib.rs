//! wsh: the command line, the interpreter, images and containers.

pub mod base_image;
pub mod container;
pub mod store;
pub mod interp;
