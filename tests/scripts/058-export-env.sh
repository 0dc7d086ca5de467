export FOO=bar
printenv FOO
BAZ=qux printenv BAZ
printenv BAZ || echo "BAZ not exported"
