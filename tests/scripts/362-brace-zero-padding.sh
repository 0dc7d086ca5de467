# brace sequences with a leading zero pad every term to the same width
echo {01..03} {1..10..3} {05..1} {-01..02} {001..10..4}
echo x{08..11}y {a..c}{01..02} {1..3}{00..01}
echo {0..2} {00..2} {-5..-3} {-05..-3}
for f in file{001..003}.txt; do echo "$f"; done
echo '{01..03}' "{01..02}"
