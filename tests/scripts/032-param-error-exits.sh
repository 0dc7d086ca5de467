unset nope
echo before
: "${nope:?is required}"
echo after
