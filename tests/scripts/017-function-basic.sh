greet() { echo "hello $1"; }
greet world
function shout { echo "HEY $*"; }
shout a b
