"""The IoT Hub module client: IoT Hub's MQTT device protocol, spoken exactly as the official SDKs do,
so ``ova edge`` runs against ova's hub, a plain MQTT broker, or a real Azure IoT Hub / IoT Edge hub.

- ``endpoint``: where to connect and as whom (connection string or IoT Edge environment).
- ``credentials``: SAS tokens for MQTT CONNECT, signed with a key or by the IoT Edge workload API.
- ``edge_environment``: the ``IOTEDGE_*`` variables and the workload API over its unix socket.
- ``requests``: the table of requests that wait for a ``$rid`` answer (twin GET/PATCH).
- ``client``: ``ModuleClient`` (methods, twin, outputs, inputs; reconnects and renews its token).
"""
