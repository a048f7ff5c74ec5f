"""The metric families the HTTP/2 and gRPC tests read (h2_test.py and its
phases in h2c_upgrade.py and h2_slo_top.py)."""

H2_SRV = "redline_http2_server_requests_total"
H2_CLI = "redline_http2_client_requests_total"
H2_SDUR = "redline_http2_server_request_duration_seconds"
H2_CDUR = "redline_http2_client_request_duration_seconds"
H1_SRV = "redline_http_server_requests_total"
H1_CLI = "redline_http_client_requests_total"
G_SRV = "redline_grpc_server_requests_total"
G_CLI = "redline_grpc_client_requests_total"
G_SDUR = "redline_grpc_server_request_duration_seconds"
G_CDUR = "redline_grpc_client_request_duration_seconds"
UNPARSED = "redline_http_unparsed_total"
LOST = "h2_events_lost"  # a kind of redline_http_unparsed_total
FAMILIES = (H2_SRV, H2_CLI, H2_SDUR, H2_CDUR, G_SRV, G_CLI, G_SDUR, G_CDUR)
