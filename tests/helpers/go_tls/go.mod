module redline/go_tls

go 1.19
