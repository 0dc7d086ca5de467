# BASH_XTRACEFD and set -x quoting; programs inherit the shell's descriptors (a
# process substitution's /dev/fd/N); a coproc's descriptors, NAME_PID and wait.
dir=$(mktemp -d)
exec 3>"$dir/trace"
BASH_XTRACEFD=3
set -x
echo "two words" plain '' 'it'\''s'
set +x
unset BASH_XTRACEFD
exec 3>&-
cat "$dir/trace"
cat <(echo from procsub)
wc -l < <(printf 'a\nb\n')
# The coprocesses wait for input first: bash forgets a coproc's variables and
# closes its descriptors as soon as it ends.
coproc UP { read -r line; echo "got: $line"; }
pid=$UP_PID
exec 8<&"${UP[0]}" 9>&"${UP[1]}"
echo hello >&9
read -r reply <&8
echo "$reply"
wait "$pid"; echo "coproc status $?"
coproc { read -r; exit 42; }
echo "started: $?"
pid=$COPROC_PID
exec 7>&"${COPROC[1]}"
echo go >&7
wait "$pid"; echo "wait: $?"
exec 7>&- 8<&- 9>&-
rm -r "$dir"
