for x in start stop restart bogus; do
  case "$x" in
    start|restart) echo "starting ($x)" ;;
    stop) echo stopping ;;
    *) echo "unknown: $x" ;;
  esac
done
