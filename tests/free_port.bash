# free_ports COUNT: print the first of COUNT consecutive local ports that no
# socket uses (TCP or UDP, listening or connected), chosen below the
# ephemeral range (32768+), so a client connection of another test cannot
# take one between the check and the server's bind. Sourced.
free_ports() {
	local count=$1 base i busy
	base=$((20000 + ($$ * 7) % 12000))
	for _ in $(seq 200); do
		busy=0
		for i in $(seq 0 $((count - 1))); do
			if ss -Hant "sport = :$((base + i))" | grep -q . ||
				ss -Hanu "sport = :$((base + i))" | grep -q .; then
				busy=1
				break
			fi
		done
		if [ "$busy" = 0 ]; then
			echo "$base"
			return 0
		fi
		base=$((20000 + (base - 20000 + count + 1) % 12000))
	done
	return 1
}
