package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
)

// vmHWM is a process's peak resident set in KiB, from /proc. (getrusage's
// ru_maxrss is no good here: it survives exec, so a child started by a large
// parent reports the parent's peak.)
func vmHWM(pid int) int64 {
	return procField(fmt.Sprintf("/proc/%d/status", pid), "VmHWM:")
}

// procField reads the number after name in a /proc file such as status or meminfo.
func procField(path, name string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			var n int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &n)
			return n
		}
	}
	return 0
}

// machine describes this computer for the report: cores, memory, CPU model, kernel.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "unknown kernel"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = "Linux " + strings.TrimSpace(string(b))
	}
	memGiB := float64(procField("/proc/meminfo", "MemTotal:")) / (1 << 20)
	return fmt.Sprintf("%d CPUs (%s), %.1f GiB memory (MemTotal), %s, %s", runtime.NumCPU(), model, memGiB, kernel, runtime.Version())
}
