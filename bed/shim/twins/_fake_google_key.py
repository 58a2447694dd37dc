"""The fake Google service account of the Vertex AI twin: a fixed RSA key pair, public on purpose.

bed writes ``service_account_info(...)`` into the router config it derives for a ``vertex_ai``
deployment (as its ``vertex_credentials``); google-auth, inside LiteLLM, signs its token request with
this key, and the twin verifies that signature with the public half (``_rs256.public_key``). The
key opens nothing but the twin: it was generated for bed, is published in bed's source, and no
Google project knows it. A fixed key needs no file to mount and no state shared between bed and
the shim, and keeps every answer deterministic.
"""

from __future__ import annotations

from typing import Any

PROJECT_ID = "bed-twin-project"
CLIENT_EMAIL = f"bed-twin@{PROJECT_ID}.iam.gserviceaccount.com"
PRIVATE_KEY_ID = "bedtwin0fake0key0not0a0google0key000000"
# A 2048-bit RSA key (PKCS#8), generated for bed's twin; FAKE, never a Google credential.
PRIVATE_KEY = """\
-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDD8LFBlBD4ZMPY
LX+zlul8OB3kpzXLRRQSfMTd8XBES1ziZzkS49zQu2XHbxvZP+hB8F3A+tcNqdwp
mZEvvNg8iDdQWHNYU7KK0kpV0vs9VQH5WLDC8p5KSrEQZoVXD1tYshr/5pkR15je
ELVW6IyeUoaCAKNTaEfzqmagVeUdrJuRCz8lgvwcnVuFm4jhkaRqas02IBc56SY9
wjEBZqNEoIWFDoKtsNju1PrKg6oSpdpA6+Dspecs0pf9Jugs+Da5TqZ9S/TJc4A+
nSC+a1OtcBZfVfzEe1cRZtNAyP054jAF+U4o1zcVxWJGiPX9hi+Ol0GzYOj0aL9e
sibedAXpAgMBAAECggEACyR5ggoQZn29dOJOfikddTzQN1/qY1k17WC2xcvMd3fF
LBNUZ655UM3tWWhoQCQeGjzX6gjhuKNRk7SJ0PoHXnbdFWa4RXw5/aK8izGkq63V
P0ejwqxPI9ioRc9csxEan9o+BpInn4AAD5XJ6CuwjnLRNxyf7Rbzq4fDzwefcD7W
feRv5i+gFKB7trkvnPnRDnY5363QktuSljCZWG+l72fpPMusUlLcrM/mQT07F5sH
l9ZAzBrMYzQmP9fEjwlmnm3TLS1jojgVxQpoqOeq+a9QyzOyjW7RhVLQKjYyzIGM
ApT7e+kovA+e7atrG53S7BnMpxYzFGiWp/082rfmsQKBgQDkzU7rveVh9BwRRvWB
lafAdBNh+KWj7vGVg1Iw93UmvBQLfXKuPJApZsfhGEpTIkCVkdNj5RVyJQ7eYlKm
7Lj/DtEH8U6TxNQK7ua+mLNTc+XuKdWplgsT6IipdH3GdZ7oEkbJFSoYppCf6lXy
EHD8ujm2O3uvenGb7jsWzoZHsQKBgQDbO11XbFqEM/Rq0MJ116bP7bOR0PXlKS22
2br27Sdol6MF4tTKslqIEvjboAE/mHjmam7iB/p7KSmjieDtKWkDa+rw8wDi9siw
unh4msvEIYMvvOqHQb/VqFnmps6Q7zAJwK2czt+E2ocCCIK+49cOlVx4pX15P3bN
rJfxGDJnuQKBgQCcw8rKHN8YYTAF6m917Pr2EtHg84NSMfoWbdaXtETxWDYHtVko
5lgD9ecHZCQwl6xWjoae0CwEfD2WwxlMQ69xGk7AOWaUOmzqXMt+VZOwnx0wNDuv
qR1H87AHIsi2fIp3CWa0iarBHwbCesWOSBOSJWo7YMAa+DL1GqIjuzcn0QKBgGos
6hv5Ai2c6/b/e+6Ort9tA9bPGQgPVXCFKqOEX92r8uxa2ywADRBx/8x+RZyDP6p4
SZN2wbz8RopJsIGr2Iwrq/Fd/0PsuW2+IbJnZeBrSpnIKN2w3jOgAUpP5yMSdHWE
t5CGMIKrQ0+cx5WjyvfpJovXulkKf4NE36GIUoEhAoGBAMCuxmoQnALY2e0Nc61B
ETO15FrUJr7f0YrML3AhI9GVmIqSYybqLHx9glMtJXHOkPdYn+ypdV/zyJooP7um
g6mz3FuQJTQ5L59n+a715WI39My5lD9SQuBDzZ0kS9Qw+HlU8Ke/eaJLP6lMAKXN
+N8nvTWMIy9d23H07mEw9TVE
-----END PRIVATE KEY-----
"""


def service_account_info(token_uri: str, project_id: str = PROJECT_ID) -> dict[str, Any]:
    """A service account JSON, as Google issues one, whose token exchange goes to ``token_uri`` (the twin's)."""
    return {"type": "service_account", "project_id": project_id, "private_key_id": PRIVATE_KEY_ID,
            "private_key": PRIVATE_KEY, "client_email": CLIENT_EMAIL, "client_id": "100000000000000000000",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{CLIENT_EMAIL}",
            "universe_domain": "googleapis.com"}
