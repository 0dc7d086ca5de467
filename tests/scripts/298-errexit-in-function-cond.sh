set -e
f() { false; echo "continues in cond context"; }
if f; then echo ok; fi
echo end
