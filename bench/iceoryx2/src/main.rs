//! Fan-out latency through iceoryx2 publish/subscribe, measured exactly as
//! bench/fanout.cpp measures zinc channels and pipes, and written to the same
//! JSON lines (transport "iceoryx2").
//!
//! One writer process sends fixed-size frames to N reader processes (forked
//! children). The writer loans a sample, fills it, stamps it with
//! CLOCK_MONOTONIC, sends it and notifies an event service; each reader
//! sleeps in its event listener, then takes the sample from its subscriber
//! and records the time from the stamp to `receive()` returning. The writer
//! sends the next frame only after every reader acknowledged the last one (a
//! counter in a shared page, not timed) and --gap-us more passed. Reports
//! p50/p99 over all readers' samples, and per frame the latency of the
//! first and of the last reader to get it.
//!
//! Usage: zinc_bench_fanout_iceoryx2 [--readers=1] [--frame=64] [--seconds=2]
//!        [--warmup=0.2] [--gap-us=100] [--max-frames=200000]
//!        [--samples=20000] [--json=FILE]

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use core::time::Duration;
use std::collections::HashMap;
use std::io::Write;

use iceoryx2::port::update_connections::UpdateConnections;
use iceoryx2::prelude::*;

const STOP_SEQUENCE: u64 = u64::MAX;
const STAMP_BYTES: usize = 16; // sequence (u64) and sent_ns (i64), native order
const READER_POLL: Duration = Duration::from_secs(1);
const ACK_TIMEOUT_NS: i64 = 10_000_000_000;

type Fallible<T> = Result<T, String>;

fn now_ns() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

// ---- flags -------------------------------------------------------------------

struct Options {
    readers: usize,
    frame: usize,
    seconds: f64,
    warmup: f64,
    gap_us: f64,
    max_frames: usize,
    keep_samples: usize,
    json: String,
}

fn parse_size(text: &str) -> Fallible<usize> {
    let (digits, scale) = match text.chars().last() {
        Some('K') => (&text[..text.len() - 1], 1usize << 10),
        Some('M') => (&text[..text.len() - 1], 1 << 20),
        Some('G') => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    digits
        .parse::<usize>()
        .map(|n| n * scale)
        .map_err(|_| format!("'{text}' is not a size like 4096, 64K or 1M"))
}

fn parse_options() -> Fallible<Options> {
    let mut values = HashMap::new();
    for arg in std::env::args().skip(1) {
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(format!(
                "unexpected argument '{arg}' (flags look like --name=value)"
            ));
        };
        let (name, value) = flag.split_once('=').unwrap_or((flag, "1"));
        values.insert(name.to_string(), value.to_string());
    }
    let mut take = |name: &str, fallback: &str| values.remove(name).unwrap_or(fallback.into());
    let number = |name: &str, text: String| -> Fallible<f64> {
        text.parse::<f64>()
            .map_err(|_| format!("--{name}={text} is not a number"))
    };
    let options = Options {
        readers: parse_size(&take("readers", "1"))?,
        frame: parse_size(&take("frame", "64"))?,
        seconds: number("seconds", take("seconds", "2"))?,
        warmup: number("warmup", take("warmup", "0.2"))?,
        gap_us: number("gap-us", take("gap-us", "100"))?,
        max_frames: parse_size(&take("max-frames", "200000"))?,
        keep_samples: parse_size(&take("samples", "20000"))?,
        json: take("json", ""),
    };
    if let Some(name) = values.keys().next() {
        return Err(format!("unknown flag --{name}"));
    }
    if options.readers < 1 || options.readers > 64 {
        return Err("--readers must be 1..64".into());
    }
    if options.frame < 64 {
        return Err("--frame must be at least 64 bytes".into());
    }
    if options.max_frames < 2 {
        return Err("--max-frames must be at least 2".into());
    }
    Ok(options)
}

// ---- what the processes share ------------------------------------------------

#[repr(C, align(64))]
struct Control {
    ready: AtomicU64,
    _pad0: [u64; 7],
    acks: AtomicU32, // futex word: frames x readers acknowledged
    _pad1: [u32; 15],
    bad_frames: AtomicU64,
}

/// An anonymous shared mapping of `count` zeroed `T`s, made before the fork.
fn map_shared<T>(count: usize) -> Fallible<*mut T> {
    // SAFETY: a fresh anonymous mapping; its zero bytes are valid atomics.
    let p = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            core::mem::size_of::<T>() * count,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(format!("mmap failed: {}", std::io::Error::last_os_error()));
    }
    Ok(p.cast())
}

fn futex_wait(word: &AtomicU32, seen: u32, timeout: &libc::timespec) {
    // SAFETY: FUTEX_WAIT on a word in a shared mapping; returns at once if
    // the word is no longer `seen`.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            seen,
            timeout as *const _,
            0,
            0,
        )
    };
}

fn futex_wake_all(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE on a word in a shared mapping.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            i32::MAX,
            0,
            0,
            0,
        )
    };
}

// ---- the services ----------------------------------------------------------------

/// The names both sides open: one publish/subscribe service for the frames
/// and one event service that wakes the readers.
struct Names {
    frames: ServiceName,
    wakeups: ServiceName,
}

fn names(writer_pid: i32) -> Fallible<Names> {
    let base = format!("zinc-bench-fanout-{writer_pid}");
    let name = |suffix: &str| {
        ServiceName::new(&format!("{base}/{suffix}")).map_err(|e| format!("service name: {e:?}"))
    };
    Ok(Names {
        frames: name("frames")?,
        wakeups: name("wakeups")?,
    })
}

/// Where this run's iceoryx2 files go: a root folder and a /dev/shm prefix of
/// its own, removed at the end (remove_run_files), so a run leaves nothing
/// behind and meets no other iceoryx2 user's files.
fn run_root(writer_pid: i32) -> String {
    format!("/tmp/zinc-bench-iceoryx2-{writer_pid}/")
}

fn run_prefix(writer_pid: i32) -> String {
    format!("zinc-bench-iox2-{writer_pid}_")
}

fn node(writer_pid: i32) -> Fallible<Node<ipc::Service>> {
    let mut config = Config::default();
    config.global.prefix =
        FileName::new(run_prefix(writer_pid).as_bytes()).map_err(|e| format!("prefix: {e:?}"))?;
    config.global.set_root_path(
        &Path::new(run_root(writer_pid).as_bytes()).map_err(|e| format!("root path: {e:?}"))?,
    );
    NodeBuilder::new()
        .config(&config)
        .signal_handling_mode(SignalHandlingMode::Disabled)
        .create::<ipc::Service>()
        .map_err(|e| format!("node: {e:?}"))
}

/// Removes what iceoryx2 left of this run (its global management object
/// stays by design, and a killed process leaves its node's files).
fn remove_run_files(writer_pid: i32) {
    let _ = std::fs::remove_dir_all(run_root(writer_pid));
    let prefix = run_prefix(writer_pid);
    if let Ok(entries) = std::fs::read_dir("/dev/shm") {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

type FrameService =
    iceoryx2::service::port_factory::publish_subscribe::PortFactory<ipc::Service, [u8], ()>;
type WakeupService = iceoryx2::service::port_factory::event::PortFactory<ipc::Service>;

/// Opens (or, whoever is first, creates) both services with the same
/// settings on every side.
fn open_services(
    node: &Node<ipc::Service>,
    names: &Names,
    readers: usize,
) -> Fallible<(FrameService, WakeupService)> {
    let frames = node
        .service_builder(&names.frames)
        .publish_subscribe::<[u8]>()
        .max_publishers(1)
        .max_subscribers(readers)
        .max_nodes(readers + 1)
        .history_size(0)
        .subscriber_max_buffer_size(2)
        .open_or_create()
        .map_err(|e| format!("publish/subscribe service: {e:?}"))?;
    let wakeups = node
        .service_builder(&names.wakeups)
        .event()
        .max_notifiers(1)
        .max_listeners(readers)
        .max_nodes(readers + 1)
        .open_or_create()
        .map_err(|e| format!("event service: {e:?}"))?;
    Ok((frames, wakeups))
}

// ---- a reader process ---------------------------------------------------------------

fn stamp_of(payload: &[u8]) -> (u64, i64) {
    let sequence = u64::from_ne_bytes(payload[0..8].try_into().unwrap());
    let sent = i64::from_ne_bytes(payload[8..16].try_into().unwrap());
    (sequence, sent)
}

fn run_reader(
    index: usize,
    options: &Options,
    writer_pid: i32,
    control: &Control,
    row: *mut i64,
) -> Fallible<()> {
    let node = node(writer_pid)?;
    let (frames, wakeups) = open_services(&node, &names(writer_pid)?, options.readers)?;
    let subscriber = frames
        .subscriber_builder()
        .create()
        .map_err(|e| format!("subscriber: {e:?}"))?;
    let listener = wakeups
        .listener_builder()
        .create()
        .map_err(|e| format!("listener: {e:?}"))?;
    control.ready.fetch_add(1, Ordering::SeqCst);
    let readers = options.readers as u32;
    let mut expected: u64 = 0;
    loop {
        let sample = match subscriber
            .receive()
            .map_err(|e| format!("receive: {e:?}"))?
        {
            Some(sample) => sample,
            None => {
                // Nothing yet: sleep until the writer's notify, a second at
                // a time, checking that the writer lives.
                listener
                    .timed_wait(|_| {}, READER_POLL)
                    .map_err(|e| format!("listener wait: {e:?}"))?;
                // SAFETY: getppid has no preconditions.
                if unsafe { libc::getppid() } != writer_pid {
                    return Err("the writer is gone".into());
                }
                continue;
            }
        };
        let received = now_ns();
        let payload = sample.payload();
        let (sequence, sent) = stamp_of(payload);
        if sequence == STOP_SEQUENCE {
            return Ok(());
        }
        if sequence != expected {
            return Err(format!(
                "reader {index}: got frame {sequence} where {expected} was due"
            ));
        }
        let fill = (sequence & 0xff) as u8;
        if payload.len() != options.frame || payload[payload.len() - 1] != fill {
            control.bad_frames.fetch_add(1, Ordering::Relaxed);
        }
        drop(sample);
        if (expected as usize) < options.max_frames {
            // SAFETY: this reader's own row of the shared table, max_frames long.
            unsafe { *row.add(expected as usize) = received - sent };
        }
        // The last reader to acknowledge a frame wakes the writer.
        let acked = control.acks.fetch_add(1, Ordering::SeqCst).wrapping_add(1);
        if acked == readers.wrapping_mul((expected + 1) as u32) {
            futex_wake_all(&control.acks);
        }
        expected += 1;
    }
}

// ---- the writer ----------------------------------------------------------------------

/// The reader processes, which a failure kills and reaps.
struct Readers {
    pids: Vec<libc::pid_t>,
}

impl Readers {
    fn check(&self) -> Fallible<()> {
        let mut status = 0;
        // SAFETY: waitpid on this process's own children.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid > 0 {
            return Err(format!(
                "a reader (pid {pid}) exited early with status {status:#x}"
            ));
        }
        Ok(())
    }

    fn reap(&mut self, timeout_ns: i64) -> Fallible<()> {
        let deadline = now_ns() + timeout_ns;
        while !self.pids.is_empty() {
            let mut status = 0;
            // SAFETY: as above.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid > 0 {
                self.pids.retain(|&p| p != pid);
                if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
                    return Err(format!("reader pid {pid} failed (status {status:#x})"));
                }
            } else if now_ns() > deadline {
                return Err(format!(
                    "{} readers did not finish in time",
                    self.pids.len()
                ));
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        Ok(())
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        for &pid in &self.pids {
            // SAFETY: our own children, killed and reaped once.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, core::ptr::null_mut(), 0);
            }
        }
    }
}

fn await_acks(control: &Control, target: u32, readers: &Readers, sequence: u64) -> Fallible<()> {
    let deadline = now_ns() + ACK_TIMEOUT_NS;
    let slice = libc::timespec {
        tv_sec: 0,
        tv_nsec: 100_000_000,
    };
    loop {
        let seen = control.acks.load(Ordering::SeqCst);
        if seen == target {
            return Ok(());
        }
        futex_wait(&control.acks, seen, &slice);
        readers.check()?;
        if now_ns() > deadline {
            return Err(format!(
                "frame {sequence} was not acknowledged by every reader in 10 s"
            ));
        }
    }
}

/// Percentiles as bench/bench_util.hpp's summarize computes them.
struct Summary {
    count: usize,
    mean: f64,
    min: i64,
    p50: i64,
    p90: i64,
    p99: i64,
    p999: i64,
    max: i64,
}

/// Sorts `samples` in place.
fn summarize(samples: &mut [i64]) -> Summary {
    samples.sort_unstable();
    let n = samples.len();
    let at = |q: f64| samples[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
    Summary {
        count: n,
        mean: samples.iter().map(|&v| v as f64).sum::<f64>() / n as f64,
        min: samples[0],
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        p999: at(0.999),
        max: samples[n - 1],
    }
}

/// The keys bench_util.hpp's JsonLine writes for a Summary.
fn summary_json(key: &str, s: &Summary) -> String {
    format!(
        "\"{key}_count\":{},\"{key}_mean_ns\":{:.6},\"{key}_min_ns\":{},\"{key}_p50_ns\":{},\
         \"{key}_p90_ns\":{},\"{key}_p99_ns\":{},\"{key}_p999_ns\":{},\"{key}_max_ns\":{}",
        s.count, s.mean, s.min, s.p50, s.p90, s.p99, s.p999, s.max
    )
}

fn thinned(sorted: &[i64], limit: usize) -> String {
    let n = sorted.len();
    let take = n.min(limit);
    let picked: Vec<String> = (0..take)
        .map(|k| {
            if take == n {
                sorted[k]
            } else {
                sorted[k * (n - 1) / (take - 1)]
            }
        })
        .map(|v| v.to_string())
        .collect();
    format!("[{}]", picked.join(","))
}

fn format_ns(ns: i64) -> String {
    let ns = ns as f64;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} us", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

fn run_writer(
    options: &Options,
    control: &Control,
    latencies: *mut i64,
    readers: &mut Readers,
) -> Fallible<()> {
    let ready_deadline = now_ns() + ACK_TIMEOUT_NS;
    while control.ready.load(Ordering::SeqCst) < options.readers as u64 {
        readers.check()?;
        if now_ns() > ready_deadline {
            return Err("the readers did not start in time".into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    // SAFETY: getpid has no preconditions.
    let writer_pid = unsafe { libc::getpid() };
    let node = node(writer_pid)?;
    let (frames, wakeups) = open_services(&node, &names(writer_pid)?, options.readers)?;
    let publisher = frames
        .publisher_builder()
        .initial_max_slice_len(options.frame)
        .create()
        .map_err(|e| format!("publisher: {e:?}"))?;
    let notifier = wakeups
        .notifier_builder()
        .create()
        .map_err(|e| format!("notifier: {e:?}"))?;
    publisher
        .update_connections()
        .map_err(|e| format!("update_connections: {e:?}"))?;

    // Fills, stamps, sends and notifies frame `sequence`.
    let send = |sequence: u64| -> Fallible<()> {
        let mut sample = publisher
            .loan_slice_uninit(options.frame)
            .map_err(|e| format!("loan: {e:?}"))?;
        let payload = sample.payload_mut();
        let byte = (sequence & 0xff) as u8;
        // SAFETY: writes the loaned payload's own bytes past the stamp.
        unsafe {
            core::ptr::write_bytes(
                payload.as_mut_ptr().add(STAMP_BYTES),
                byte,
                options.frame - STAMP_BYTES,
            )
        };
        let sent = now_ns();
        let mut stamp = [0u8; STAMP_BYTES];
        stamp[..8].copy_from_slice(&sequence.to_ne_bytes());
        stamp[8..].copy_from_slice(&sent.to_ne_bytes());
        for (slot, byte) in payload.iter_mut().zip(stamp) {
            slot.write(byte);
        }
        // SAFETY: every byte was written above.
        let sample = unsafe { sample.assume_init() };
        sample.send().map_err(|e| format!("send: {e:?}"))?;
        notifier.notify().map_err(|e| format!("notify: {e:?}"))?;
        Ok(())
    };

    let gap = Duration::from_nanos((options.gap_us * 1000.0) as u64);
    let mut sequence: u64 = 0;
    let mut first_measured: Option<u64> = None;
    let mut start = now_ns();
    let warm_until = start + (options.warmup * 1e9) as i64;
    let mut until = i64::MAX;
    loop {
        let now = now_ns();
        if first_measured.is_none() && now >= warm_until {
            first_measured = Some(sequence);
            start = now;
            until = start + (options.seconds * 1e9) as i64;
        }
        if now >= until || sequence as usize >= options.max_frames {
            break;
        }
        send(sequence)?;
        let target = (options.readers as u32).wrapping_mul((sequence + 1) as u32);
        await_acks(control, target, readers, sequence)?;
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
        sequence += 1;
    }
    let elapsed = now_ns() - start;
    send(STOP_SEQUENCE)?;
    readers.reap(ACK_TIMEOUT_NS)?;
    let bad = control.bad_frames.load(Ordering::SeqCst);
    if bad != 0 {
        return Err(format!("{bad} frames arrived with the wrong contents"));
    }
    let first = match first_measured {
        Some(first) if first < sequence => first as usize,
        _ => {
            return Err(
                "no frame was measured (--seconds too short, or --max-frames reached)".into(),
            )
        }
    };
    let end = sequence as usize;

    let mut all = Vec::new();
    let mut reader_p50 = Vec::new();
    let mut fastest = vec![i64::MAX; end - first];
    let mut slowest = vec![0i64; end - first];
    for r in 0..options.readers {
        // SAFETY: row r of the shared table, which the readers (all reaped
        // now) filled up to `end`.
        let row =
            unsafe { core::slice::from_raw_parts(latencies.add(r * options.max_frames), end) };
        let mut mine = row[first..end].to_vec();
        for ((best, worst), &v) in fastest.iter_mut().zip(slowest.iter_mut()).zip(mine.iter()) {
            *best = (*best).min(v);
            *worst = (*worst).max(v);
        }
        all.extend_from_slice(&mine);
        reader_p50.push(summarize(&mut mine).p50);
    }
    let latency = summarize(&mut all);
    let fast = summarize(&mut fastest);
    let slow = summarize(&mut slowest);
    let frames_measured = end - first;
    if !options.json.is_empty() {
        let line = format!(
            "{{\"bench\":\"fanout\",\"transport\":\"iceoryx2\",\"readers\":{},\"frame_bytes\":{},\
             \"spin_us\":-1,\"gap_us\":{},\"frames\":{},\"seconds\":{:.6},{},{},{},\
             \"iceoryx2_version\":\"0.10.0\",\"reader_p50_ns\":{},\"latency_samples_ns\":{}}}\n",
            options.readers,
            options.frame,
            options.gap_us,
            frames_measured,
            elapsed as f64 / 1e9,
            summary_json("latency", &latency),
            summary_json("fastest", &fast),
            summary_json("slowest", &slow),
            thinned(&reader_p50, reader_p50.len()),
            thinned(&all, options.keep_samples),
        );
        if options.json == "-" {
            print!("{line}");
        } else {
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&options.json)
                .map_err(|e| format!("cannot write {}: {e}", options.json))?;
            out.write_all(line.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", options.json))?;
        }
    }
    println!(
        "fanout {:<14} readers {:2} frame {:8} B: p50 {:>9}  p99 {:>9}  slowest p50 {:>9}  ({} frames)",
        "iceoryx2",
        options.readers,
        options.frame,
        format_ns(latency.p50),
        format_ns(latency.p99),
        format_ns(slow.p50),
        frames_measured
    );
    // Services and ports are dropped here, before the node: iceoryx2
    // removes a service's files when its last port goes.
    drop(notifier);
    drop(publisher);
    drop(wakeups);
    drop(frames);
    Ok(())
}

fn main() {
    let options = match parse_options() {
        Ok(options) => options,
        Err(why) => {
            eprintln!("zinc_bench_fanout_iceoryx2: {why}");
            std::process::exit(2);
        }
    };
    let result = (|| -> Fallible<()> {
        let control: &Control = {
            let p = map_shared::<Control>(1)?;
            // SAFETY: the mapping is zeroed, which is a valid Control.
            unsafe { &*p }
        };
        let latencies = map_shared::<i64>(options.readers * options.max_frames)?;
        // SAFETY: getpid has no preconditions.
        let writer_pid = unsafe { libc::getpid() };
        let mut readers = Readers { pids: Vec::new() };
        // The readers are forked before the writer makes any iceoryx2 object,
        // so no child inherits one.
        for index in 0..options.readers {
            // SAFETY: this process is single-threaded here.
            let pid = unsafe { libc::fork() };
            if pid < 0 {
                return Err(format!("fork failed: {}", std::io::Error::last_os_error()));
            }
            if pid == 0 {
                // SAFETY: prctl and getppid have no preconditions.
                unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
                let code = if unsafe { libc::getppid() } != writer_pid {
                    4
                } else {
                    // SAFETY: row `index` of the shared table, max_frames long.
                    let row = unsafe { latencies.add(index * options.max_frames) };
                    match run_reader(index, &options, writer_pid, control, row) {
                        Ok(()) => 0,
                        Err(why) => {
                            eprintln!("zinc_bench_fanout_iceoryx2: reader {index}: {why}");
                            3
                        }
                    }
                };
                // SAFETY: leaves the child without running the writer's
                // clean-up; the reader's iceoryx2 objects were dropped.
                unsafe { libc::_exit(code) };
            }
            readers.pids.push(pid);
        }
        run_writer(&options, control, latencies, &mut readers)
    })();
    // Every reader is gone by now (reaped, or killed when `readers` dropped).
    // SAFETY: getpid has no preconditions.
    remove_run_files(unsafe { libc::getpid() });
    if let Err(why) = result {
        eprintln!("zinc_bench_fanout_iceoryx2: {why}");
        std::process::exit(1);
    }
}
