# wait_listening.sh - sourced by sim.sh and k8s_population.sh (which define
# die and T).
#   wait_listening PORT [HINT]   wait up to 5 s until something listens on TCP
#                                PORT in namespace $T; else die, adding HINT
wait_listening() {
    local port=$1 hint=${2:-} i
    for i in $(seq 50); do
        ip netns exec "$T" ss -Hltn "sport = :$port" | grep -q LISTEN && return 0
        sleep 0.1
    done
    die "nothing listens on port $port in $T after 5 s${hint:+ ($hint)}"
}
