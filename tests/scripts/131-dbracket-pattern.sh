f=report.txt
[[ $f == *.txt ]] && echo txt
[[ $f == "*.txt" ]] || echo "quoted no match"
[[ $f == r?port.* ]] && echo qmark
[[ $f == [a-r]* ]] && echo bracket
