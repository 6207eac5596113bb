"""The registry's own errors: what a service refuses on purpose, named for what went wrong.

Each door turns them into its own answer (the API into a status and an error code, the
dashboard and the admin into a message on the form). An error the ORM raises that no service
meant, such as a ``Merchant.DoesNotExist`` from a bug, stays an unexpected error, never a 404.
A customer's invalid values are Django's ``ValidationError``, raised by the model's rules.
"""


class ApplicationError(Exception):
    """Base of every error a service raises on purpose."""

    default_message = "The request could not be carried out."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class CustomerNotFound(ApplicationError):
    """The customer is not there: deleted meanwhile, or never in this merchant."""

    default_message = "This customer does not exist (any more)."


class StaleVersion(ApplicationError):
    """The customer changed since the version the caller based its write on."""

    default_message = "The customer changed since it was read."
