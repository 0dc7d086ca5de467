//! sed: uutils' `sed` crate (its library entry point), run as the other uutils applets are.

use std::ffi::OsString;

/// Runs sed.
pub fn main(argv: Vec<OsString>) -> i32 {
    if let Err(err) = uucore::locale::setup_localization("sed") {
        eprintln!("sed: could not initialise localisation: {err}");
        return 99;
    }
    sed::sed::uumain(argv.into_iter())
}
