"""MQTT 3.1.1 and 5 on the wire: the packet codec the hub's gateway proxies with."""
