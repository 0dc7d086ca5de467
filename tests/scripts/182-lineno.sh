echo "line $LINENO"

echo "line $LINENO"
f() {
  echo "in f $LINENO"
}
f
