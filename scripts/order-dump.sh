# Sourced by the fault and scale-out suites: the order schema's data as
# sorted rows, to compare a faulted run with a clean one. Needs a function
# `query BACKEND SQL` (tab-separated rows) and REJECTS (the rejects table).

dump() { # backend run-id-clause → sorted rows of the stored data and of the run's rejects
    local b=$1 runs=$2
    {
        query "$b" "SELECT 'customer', external_id, name, COALESCE(email, ''), COALESCE(country, '') FROM customers"
        query "$b" "SELECT 'order', o.external_id, c.external_id, o.status, o.currency, o.total_cents, o.content_hash FROM orders o JOIN customers c ON c.id = o.customer_id"
        query "$b" "SELECT 'line', o.external_id, l.line_no, l.sku, l.quantity, l.unit_price_cents, COALESCE(l.discount_bp, -1), COALESCE(l.note, '') FROM order_lines l JOIN orders o ON o.id = l.order_id"
        query "$b" "SELECT 'reject', source, line, COALESCE(field, ''), reason FROM $REJECTS WHERE run_id IN ($runs)"
    } | LC_ALL=C sort
}

# compare clean faulted → "lost duplicated"
compare() {
    local lost dup
    lost=$(LC_ALL=C comm -23 <(uniq "$1") <(uniq "$2") | wc -l)
    dup=$(($(LC_ALL=C comm -13 <(uniq "$1") <(uniq "$2") | wc -l) + $(uniq -d "$2" | wc -l)))
    echo "$lost $dup"
}
