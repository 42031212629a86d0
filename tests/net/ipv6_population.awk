# ipv6_population.awk - the IPv6 part of the simulated internet, from
# arithmetic alone (no randomness to reproduce): a prefix and a hitlist.
#   awk -v out=DIR -f ipv6_population.awk </dev/null
# writes into DIR:
#   nft.txt      elements of sets open6 and rst6 (netns.sh ipv6)
#   truth.csv    saddr,sport of every open pair, RFC 5952 text (header)
#   hitlist.txt  the hitlist: live and dead entries in the text forms hitlist
#                files use (compressed, written out, upper case), comments,
#                a blank line, a repeated entry and one inside the prefix
# Prefix 2001:2::/120: address X is open on the I-th port (443, 6443) when
# (7 X + 3 I) % 10 == 3,
# answers RST when X % 37 == 5. Hitlist: 2001:2:0:N::M (M = 3N + 1) for N in
# 1..40; it is live when N % 3 != 0: open on 443 when N is odd, on 6443
# when N % 3 == 1. N = 7 is the blocklist test's /64, N = 9 the opt-out's.
function hex4(v,   s) { return sprintf("%04X", v) }
BEGIN {
    ports[1] = 443; ports[2] = 6443
    truth = out "/truth.csv"; nft = out "/nft.txt"; hit = out "/hitlist.txt"
    print "saddr,sport" > truth
    open6 = ""; rst6 = ""
    for (x = 0; x < 256; x++) {
        a = x == 0 ? "2001:2::" : sprintf("2001:2::%x", x)
        for (i = 1; i <= 2; i++)
            if ((7 * x + 3 * i) % 10 == 3) {
                print a "," ports[i] > truth
                open6 = open6 (open6 == "" ? "" : ", ") a " . " ports[i]
            }
        if (x % 37 == 5)
            rst6 = rst6 (rst6 == "" ? "" : ", ") a
    }
    print "# responsive IPv6 addresses (test population)" > hit
    print "" > hit
    for (n = 1; n <= 40; n++) {
        m = 43776 + n
        a = sprintf("2001:2:0:%x::%x", n, m)
        if (n % 4 == 0)
            line = "2001:0002:0000:" hex4(n) ":0000:0000:0000:" hex4(m)
        else if (n % 4 == 1)
            line = toupper(a) "   # upper case"
        else
            line = a
        print line > hit
        if (n % 3 == 0)
            continue
        if (n % 2 == 1) { print a ",443" > truth; open6 = open6 ", " a " . 443" }
        if (n % 3 == 1) { print a ",6443" > truth; open6 = open6 ", " a " . 6443" }
    }
    print "2001:2:0:1::ab01" > hit         # repeated (n = 1)
    print "2001:2::3   # inside the prefix" > hit
    print "add element inet ks open6 { " open6 " }" > nft
    print "add element inet ks rst6 { " rst6 " }" > nft
}
