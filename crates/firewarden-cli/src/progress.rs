//! Progress on standard error: shown only on a terminal, and only once a run takes longer than
//! a second, so quick runs and scripts see nothing.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Live progress state, updated from the triage callback.
pub struct Progress {
    state: Mutex<(Vec<String>, usize, usize, String)>,
    stop: AtomicBool,
    enabled: bool,
}

impl Progress {
    /// A progress display if standard error is a terminal.
    pub fn new() -> Self {
        Progress {
            state: Mutex::new((Vec::new(), 0, 0, String::new())),
            stop: AtomicBool::new(false),
            enabled: std::io::stderr().is_terminal(),
        }
    }

    /// Feeds a triage progress event.
    pub fn update(&self, p: firewarden_triage::Progress) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            firewarden_triage::Progress::Started(id) => s.0.push(id.to_string()),
            firewarden_triage::Progress::Finished { id, done, total } => {
                s.0.retain(|x| x != id);
                s.1 = done;
                s.2 = total;
            }
        }
    }

    /// Shows a phase of a multi-step job (collection) instead of check counts.
    pub fn message(&self, phase: &str) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).3 = phase.to_string();
    }

    /// Whether anything is shown (standard error is a terminal).
    pub fn shown(&self) -> bool {
        self.enabled
    }

    /// Prints a block on standard error above the progress line (a terminal only).
    pub fn say(&self, text: &str) {
        if !self.enabled {
            return;
        }
        // Holding the state keeps the ticker from drawing over the block.
        let _s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(b"\r\x1b[2K");
        let _ = err.write_all(text.as_bytes());
    }

    /// Runs `work` while a ticker thread draws the progress line.
    pub fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        if !self.enabled {
            return work();
        }
        let start = Instant::now();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut drawn = false;
                while !self.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(200));
                    if start.elapsed() < Duration::from_secs(1) {
                        continue;
                    }
                    let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
                    let line = if s.3.is_empty() {
                        format!(
                            "\r\x1b[2K[{:>4.1}s] {}/{} checks done; running {}",
                            start.elapsed().as_secs_f32(),
                            s.1,
                            s.2.max(s.1),
                            s.0.join(", ")
                        )
                    } else {
                        format!("\r\x1b[2K[{:>4.1}s] {}", start.elapsed().as_secs_f32(), s.3)
                    };
                    let _ = std::io::stderr().write_all(line.as_bytes());
                    drop(s);
                    drawn = true;
                }
                if drawn {
                    let _ = std::io::stderr().write_all(b"\r\x1b[2K");
                }
            });
            let result = work();
            self.stop.store(true, Ordering::Relaxed);
            result
        })
    }
}
