//! The threads guests run on, kept for reuse. Starting a thread is most of what a
//! short program costs (the thread itself, wasmtime's per-thread signal stack and
//! trap state, the TLS set up and torn down): a finished guest's thread waits here
//! for the next program instead of exiting. A thread idle for [`IDLE`] ends, and
//! at most [`MAX_IDLE`] wait at once, so a burst of 500 jobs leaves no 500 threads
//! behind.
//!
//! A job that panics ends its thread (the pool starts another when needed); the
//! guest's exit cell reports that as status 134.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::pids::ForkError;

/// How long a thread waits for another program before it ends.
const IDLE: Duration = Duration::from_secs(5);

/// How many threads may wait at once; a thread finishing beyond this ends.
const MAX_IDLE: usize = 64;

type Job = Box<dyn FnOnce() + Send>;

/// One thread of the pool: the job handed to it, and its wake-up.
#[derive(Default)]
struct Worker {
    job: Mutex<Option<Job>>,
    ready: Condvar,
}

/// The idle threads, most recently parked last (the warmest first to reuse).
static IDLE_WORKERS: Mutex<Vec<Arc<Worker>>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `job` on an idle thread of the pool, or on a new one when none is idle.
pub(crate) fn run(job: impl FnOnce() + Send + 'static) -> Result<(), ForkError> {
    let job: Job = Box::new(job);
    if let Some(worker) = lock(&IDLE_WORKERS).pop() {
        *lock(&worker.job) = Some(job);
        worker.ready.notify_one();
        return Ok(());
    }
    let worker = Arc::new(Worker {
        job: Mutex::new(Some(job)),
        ready: Condvar::new(),
    });
    std::thread::Builder::new()
        .name("wsh guest".into())
        .spawn(move || serve(worker))
        .map(drop)
        .map_err(|_| ForkError)
}

/// A pool thread's life: run the job it was handed, park, repeat until idle too long.
fn serve(worker: Arc<Worker>) {
    loop {
        let Some(job) = next_job(&worker) else { return };
        job();
        let mut idle = lock(&IDLE_WORKERS);
        if idle.len() >= MAX_IDLE {
            return;
        }
        idle.push(worker.clone());
    }
}

/// Waits for the next job handed to `worker`; `None` when it should end.
fn next_job(worker: &Arc<Worker>) -> Option<Job> {
    let mut job = lock(&worker.job);
    loop {
        if let Some(j) = job.take() {
            return Some(j);
        }
        let (guard, timeout) = worker
            .ready
            .wait_timeout(job, IDLE)
            .unwrap_or_else(PoisonError::into_inner);
        job = guard;
        if timeout.timed_out() && job.is_none() {
            // Leave only if still idle: a spawner that already took this worker
            // from the list is about to hand it a job.
            let mut idle = lock(&IDLE_WORKERS);
            if let Some(i) = idle.iter().position(|w| Arc::ptr_eq(w, worker)) {
                idle.swap_remove(i);
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_finished_thread_runs_the_next_job() {
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        run(move || tx.send(std::thread::current().id()).unwrap()).unwrap();
        let first = rx.recv().unwrap();
        // Let the first thread park before the second job arrives.
        while lock(&IDLE_WORKERS).is_empty() {
            std::thread::yield_now();
        }
        run(move || tx2.send(std::thread::current().id()).unwrap()).unwrap();
        let second = rx.recv().unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn concurrent_jobs_get_threads_of_their_own() {
        let (tx, rx) = mpsc::channel::<()>();
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        for _ in 0..8 {
            let (tx, gate) = (tx.clone(), gate.clone());
            run(move || {
                let mut open = lock(&gate.0);
                while !*open {
                    open = gate.1.wait(open).unwrap();
                }
                tx.send(()).unwrap();
            })
            .unwrap();
        }
        *lock(&gate.0) = true;
        gate.1.notify_all();
        for _ in 0..8 {
            rx.recv_timeout(Duration::from_secs(10)).unwrap();
        }
    }
}
