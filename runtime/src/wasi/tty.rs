//! The host terminal as guests reach it: `/dev/tty`, and the keyboard mode a
//! pager or editor asks for (`wsh.tty_raw`). The terminal is the one behind wsh's
//! own stdio, and only for a guest whose stdio includes it (a container given the
//! terminal); its mode is put back when the guest lets go or ends, trap included.

use super::Guest;
use super::abi::Errno;
use super::fdtable::Fd;
use crate::io::{Handle, host_isatty};

const NOTTY: Errno = Errno::NOTTY;

/// The host descriptor a stdio handle stands for.
pub(super) fn host_fd(h: &Handle) -> Option<i32> {
    match h {
        Handle::HostStdin => Some(0),
        Handle::HostStdout => Some(1),
        Handle::HostStderr => Some(2),
        _ => None,
    }
}

/// `/dev/tty` for `g`: the host terminal on fd 0 (reads take keys from it, writes
/// show on it), when the guest's stdio includes that terminal; ENXIO otherwise.
pub(super) fn dev_tty(g: &Guest) -> Result<Handle, Errno> {
    let has_terminal = (0..3).any(|n| match g.fds.get(n) {
        Ok(Fd::Handle(h)) => host_fd(h).is_some_and(host_isatty),
        _ => false,
    });
    if has_terminal && host_isatty(0) {
        Ok(Handle::HostStdin)
    } else {
        // ENXIO: no controlling terminal, as on Linux.
        Err(Errno::NXIO)
    }
}

/// The terminal mode to put back: the host fd and its settings before the change.
pub struct SavedMode {
    fd: i32,
    termios: libc::termios,
}

impl Drop for SavedMode {
    fn drop(&mut self) {
        // SAFETY: a termios read from this fd by tcgetattr.
        unsafe { libc::tcsetattr(self.fd, libc::TCSADRAIN, &self.termios) };
    }
}

/// The host terminal behind the guest's descriptor `fd` (a stdio handle on a
/// tty), or ENOTTY.
pub(super) fn terminal_fd(g: &Guest, fd: u32) -> Result<i32, Errno> {
    match g.fds.get(fd)? {
        Fd::Handle(h) => host_fd(h).filter(|n| host_isatty(*n)).ok_or(NOTTY),
        _ => Err(NOTTY),
    }
}

/// `wsh.tty_raw(fd, mode)`: with mode 1, the terminal behind `fd` hands over each
/// key as it is typed, unechoed (no line editing; output processing and Ctrl-C
/// stay); with 2, Ctrl-C, Ctrl-\ and Ctrl-Z come as keys too (an editor must
/// survive them); with 0, the mode from before. Only the terminal a guest was given.
pub(super) fn tty_raw(g: &mut Guest, fd: u32, mode: i32) -> Result<(), Errno> {
    let n = terminal_fd(g, fd)?;
    if mode == 0 {
        g.tty_mode = None;
        return Ok(());
    }
    if g.tty_mode.is_some() {
        return Ok(());
    }
    // SAFETY: termios is plain data; tcgetattr fills it for a terminal fd.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer.
    if unsafe { libc::tcgetattr(n, &mut t) } != 0 {
        return Err(NOTTY);
    }
    let saved = SavedMode { fd: n, termios: t };
    t.c_lflag &= !(libc::ICANON | libc::ECHO | libc::IEXTEN);
    if mode == 2 {
        // No SIGINT/SIGQUIT/SIGTSTP from the keyboard: the keys reach the guest.
        t.c_lflag &= !libc::ISIG;
    }
    t.c_iflag &= !(libc::IXON | libc::ICRNL);
    t.c_cc[libc::VMIN] = 1;
    t.c_cc[libc::VTIME] = 0;
    // SAFETY: a termios derived from the fd's own.
    if unsafe { libc::tcsetattr(n, libc::TCSADRAIN, &t) } != 0 {
        return Err(NOTTY);
    }
    g.tty_mode = Some(saved);
    Ok(())
}
