x=10
(( x += 5 )); echo $x
(( x -= 3 )); echo $x
(( x *= 2 )); echo $x
(( x /= 4 )); echo $x
(( x %= 4 )); echo $x
(( x <<= 3 )); echo $x
(( x |= 1 )); echo $x
