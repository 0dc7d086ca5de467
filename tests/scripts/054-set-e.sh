set -e
echo start
false || echo handled
if false; then :; fi
false
echo never
