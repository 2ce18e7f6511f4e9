from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """``?page=N`` (50 per page, as the pages), ``?page_size=`` up to 1000."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
