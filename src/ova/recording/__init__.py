"""Recording a camera into an archive: the machinery the cloud recorder and the edge video sink share."""
