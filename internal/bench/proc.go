package bench

import "time"

// ProcSample is what the kernel says about one process at one instant.
type ProcSample struct {
	At time.Time
	// RSSKB is VmRSS in KiB; AnonKB its anonymous part (RssAnon: heap,
	// stacks, runtime metadata), the rest being file pages (the binary's
	// code and data as they are touched) and shared memory.
	RSSKB, AnonKB int64
	// CPU is user+system time summed over the live threads, from
	// schedstat (nanosecond resolution); CPUTicks is utime+stime from
	// /proc/<pid>/stat (10 ms ticks, but includes exited threads).
	CPU      time.Duration
	CPUTicks time.Duration
	// VolCtx is voluntary context switches summed over the live threads:
	// each one is a thread going to sleep, so their rate counts wakeups.
	VolCtx  int64
	Threads int
	FDs     int
}
