# A script keeps no history (bash: history is off when not interactive).
echo a
history
echo "status $?"
history -c; echo "cleared $?"
history 2; echo "n $?"
