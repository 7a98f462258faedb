// `npm run bench`: Hangar against raw QEMU and QMP, side by side in one run. The figures arrive
// with the benchmark issue (7); until then this says so rather than printing nothing.
console.log('bench: no benchmarks yet; they arrive with the benchmarks issue (7). See bench/README.md.');
