# Job specs in a script (no job control): %N, %%, %+, %-, %name, %?text for wait
# and kill; `wait %N` waits for that job, not for pid N
sleep 0.2 &
(exit 3) &
wait %1; echo "wait %1: $?"
wait %2; echo "wait %2: $?"
sleep 30 &
kill %sleep; wait $!; echo "kill %sleep: $?"
sleep 30 &
sleep 31 &
kill %-; kill %%
wait; echo "both killed"
sleep 30 &
kill %?30; wait %?30; echo "kill %?30: $?"
wait %9; echo "wait %9: $?"
kill %nosuch 2>/dev/null; echo "kill %nosuch: $?"
# a subshell sees its parent's jobs: the `kill $(jobs -p)` idiom
sleep 30 &
sleep 31 &
echo "listed: $(jobs -p | wc -l)"
kill $(jobs -p)
wait; echo "all killed"
jobs
