package meter

// likelyServer reports whether port is in Zeek's default
// likely_server_ports for the protocol (the ports its analyzers register
// as server ports), used to orient flows whose start was not seen.
func likelyServer(proto uint8, port uint16) bool {
	if proto == 17 {
		switch port {
		case 53, 67, 69, 88, 123, 137, 161, 162, 500, 514, 1812, 1813, 2123, 2152, 3478, 4789, 5060, 5353, 5355, 6081, 4500, 47808, 20000:
			return true
		}
		return false
	}
	switch port {
	case 21, 22, 23, 25, 53, 80, 81, 88, 110, 135, 139, 143, 389, 443, 445, 502, 563, 585, 587, 614, 631, 636, 989, 990, 992, 993, 995,
		1080, 1433, 1883, 2811, 3128, 3306, 3389, 5060, 5222, 5223, 5269, 5432, 5672, 6379, 6667, 8000, 8080, 8883, 8888, 9200, 20000, 44818:
		return true
	}
	return false
}
