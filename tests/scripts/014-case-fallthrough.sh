case x in
  x) echo first ;&
  y) echo second ;;
  z) echo third ;;
esac
case ab in
  a*) echo one ;;&
  *b) echo two ;;
  *) echo three ;;
esac
