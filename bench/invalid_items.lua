wrk.method = "POST"
wrk.body = '{"name":"widget","price":"cheap","tags":["a","b"]}'
wrk.headers["Content-Type"] = "application/json"
