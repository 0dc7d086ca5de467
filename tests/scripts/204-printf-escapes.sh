printf 'tab\there\n'
printf '%b\n' 'esc\tseq'
printf 'pct %% done\n'
printf '\x41\101\n'
