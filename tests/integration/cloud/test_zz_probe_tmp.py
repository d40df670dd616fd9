import pytest
async def test_probe(api, subtests):
    for i in range(3):
        with subtests.test(msg="case", i=i):
            r = await api.get("/providers/Microsoft.Media/operations?api-version=2021-11-01-preview")
            assert r.status_code == (200 if i != 1 else 500)
