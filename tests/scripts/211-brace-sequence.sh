echo {1..5}
echo {5..1}
echo {a..e}
echo {1..10..3}

