# SPDX-License-Identifier: GPL-2.0
# examples/perf.gp - the chart of docs/PERFORMANCE.md "The example programs":
#   gnuplot examples/perf.gp      (writes examples/perf.svg)
# The numbers are those of that section (topcount --bench; channel --compare,
# medians of 3); edit both together.
set terminal svg size 960,720 dynamic noenhanced font "sans,11"
set output "examples/perf.svg"
set multiplot layout 2,2 title "libarena-ds examples vs the kernel's maps and ring buffers (2-core VM, loaded, kernel 6.18)"

# keys  arena-walk-ms  lookup_batch-ms  arena-1-table-ms
$read << EOD
10000    0.452   1.096   0.096
100000  10.618  58.920  30.660
1000000 120.368 754.148 510.587
EOD
# keys  arena-ns  map-ns  arena-1-table-ns (BPF run-time statistics)
$event << EOD
10000    275  232   187
100000   437  496  1887
1000000  924  688 24023
EOD
# channel  p50-us p99-us (50000/s offered, medians of 3; least disturbed run's p99)
$lat << EOD
"arena mpmc"        24.1  56.3
"arena spsc"        23.0 135.2
"ringbuf/user-rb"   22.0  44.0
EOD
# channel  M items/s flat out (medians of 3)
$tput << EOD
"arena mpmc"       2.72
"arena spsc"       2.82
"ringbuf/user-rb"  2.99
EOD

set style data linespoints
set logscale xy
set xlabel "keys in the table"
set grid
set key top left
set format x "%.0s%c"
set title "One full read of the table (ms)"
set ylabel "ms"
plot $read using 1:2 title "arena walk (64 tables)" lw 2 pt 7, \
     "" using 1:3 title "BPF hash, lookup_batch" lw 2 pt 5, \
     "" using 1:4 title "arena walk (1 table)" lw 1 dt 2 pt 6

set title "Kernel cost of one counted event (ns a program run)"
set ylabel "ns"
plot $event using 1:2 title "arena hash (64 tables)" lw 2 pt 7, \
     "" using 1:3 title "BPF hash map" lw 2 pt 5, \
     "" using 1:4 title "arena hash (1 table)" lw 1 dt 2 pt 6

unset logscale
unset format
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xlabel ""
set key top right
set yrange [0:200]
set title "Channel round trip at 50000 items/s offered (us)"
set ylabel "us"
plot $lat using 2:xtic(1) title "p50 (median of 3)", \
     "" using 3 title "p99 (least disturbed of 3)"

set title "Channel throughput, flat out (M items/s, median of 3)"
set ylabel "M items/s"
set yrange [0:4]
set key off
plot $tput using 2:xtic(1) title "items/s"

unset multiplot
