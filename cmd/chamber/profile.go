package main

// profileEnv names a file for a CPU profile of this process. Profiling is off unless it
// is set; then SIGUSR1 starts the profile and SIGUSR2 (or the end of the process)
// writes it, so that the benchmarks can profile the server over their measured
// window alone: go tool pprof FILE. (Where there are no such signals, it does nothing.)
const profileEnv = "CHAMBER_CPU_PROFILE_FILE"
