"""feedback_buttons"""
