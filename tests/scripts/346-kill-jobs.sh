# kill of background jobs: by %N and by $!, the status wait reports, bad job specs
# (a background subshell is stopped with TERM: bash ignores INT in async commands,
# so INT would race with that and sometimes hang bash itself)
sleep 30 &
kill -KILL %1
wait $!; echo "killed by KILL: $?"
sleep 30 &
kill $!
wait $!; echo "killed by TERM: $?"
(while :; do :; done) &
kill -s TERM $!
wait $!; echo "shell loop killed: $?"
kill %9; echo "no such job: $?"
kill -BOGUS $!; echo "bad signal: $?"
true &
pid=$!
wait $pid; kill -0 $pid 2>/dev/null; echo "signal 0 after wait: $?"
