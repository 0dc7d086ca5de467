ls /definitely-not-here 2>/dev/null
echo "status $?"
{ echo out; echo err >&2; } 2>&1 | sort
